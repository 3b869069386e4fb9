CREATE TYPE "public"."experiment_status" AS ENUM('draft', 'running', 'paused', 'stopped');--> statement-breakpoint
CREATE TYPE "public"."experiment_surface" AS ENUM('search', 'recommendations');--> statement-breakpoint
CREATE TABLE "experiment_exposures" (
	"experiment_id" text NOT NULL,
	"subject_id" text NOT NULL,
	"org_id" text NOT NULL,
	"variant" text NOT NULL,
	"targeting_key" text NOT NULL,
	"outcome" text NOT NULL,
	"latency_ms" integer NOT NULL,
	"result_count" integer,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "experiment_exposures_org_id_experiment_id_subject_id_pk" PRIMARY KEY("org_id","experiment_id","subject_id"),
	CONSTRAINT "experiment_exposures_outcome" CHECK ("experiment_exposures"."outcome" in ('ok', 'degraded', 'error'))
);
--> statement-breakpoint
CREATE TABLE "experiments" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"key" text NOT NULL,
	"description" text,
	"surface" "experiment_surface" NOT NULL,
	"status" "experiment_status" DEFAULT 'draft' NOT NULL,
	"variants" jsonb NOT NULL,
	"traffic_percent" double precision DEFAULT 100 NOT NULL,
	"primary_metric" text NOT NULL,
	"guardrails" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"horizon" integer,
	"salt" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"sequential" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone,
	"stopped_at" timestamp with time zone,
	"promoted_variant" text,
	"promoted_at" timestamp with time zone,
	"created_by" text,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "experiments_org_key_key" UNIQUE("org_id","key"),
	CONSTRAINT "experiments_created_by_actor" CHECK ("experiments"."created_by" is null or "experiments"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$'),
	CONSTRAINT "experiments_updated_by_actor" CHECK ("experiments"."updated_by" is null or "experiments"."updated_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$'),
	CONSTRAINT "experiments_version_positive" CHECK ("experiments"."version" >= 1),
	CONSTRAINT "experiments_traffic_percent" CHECK ("experiments"."traffic_percent" > 0 and "experiments"."traffic_percent" <= 100),
	CONSTRAINT "experiments_variants_array" CHECK (jsonb_typeof("experiments"."variants") = 'array')
);
--> statement-breakpoint
ALTER TABLE "experiment_exposures" ADD CONSTRAINT "experiment_exposures_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_exposures" ADD CONSTRAINT "experiment_exposures_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "experiment_exposures_variant_key_idx" ON "experiment_exposures" USING btree ("org_id","experiment_id","variant","targeting_key");--> statement-breakpoint
CREATE INDEX "experiments_org_created_idx" ON "experiments" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "experiments_one_active_per_surface" ON "experiments" USING btree ("org_id","surface") WHERE "experiments"."status" in ('running', 'paused');