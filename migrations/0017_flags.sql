CREATE TYPE "public"."flag_type" AS ENUM('boolean', 'string', 'number', 'json');--> statement-breakpoint
CREATE TABLE "flag_sets" (
	"org_id" text PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flags" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"key" text NOT NULL,
	"type" "flag_type" NOT NULL,
	"description" text,
	"variants" jsonb NOT NULL,
	"default_variant" text NOT NULL,
	"rules" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"allow" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"deny" text[] DEFAULT '{}'::text[] NOT NULL,
	"kill_switch" boolean DEFAULT false NOT NULL,
	"salt" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"archived_at" timestamp with time zone,
	"created_by" text,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flags_org_key_key" UNIQUE("org_id","key"),
	CONSTRAINT "flags_created_by_actor" CHECK ("flags"."created_by" is null or "flags"."created_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$'),
	CONSTRAINT "flags_updated_by_actor" CHECK ("flags"."updated_by" is null or "flags"."updated_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$'),
	CONSTRAINT "flags_version_positive" CHECK ("flags"."version" >= 1),
	CONSTRAINT "flags_variants_array" CHECK (jsonb_typeof("flags"."variants") = 'array'),
	CONSTRAINT "flags_rules_array" CHECK (jsonb_typeof("flags"."rules") = 'array'),
	CONSTRAINT "flags_allow_array" CHECK (jsonb_typeof("flags"."allow") = 'array')
);
--> statement-breakpoint
ALTER TABLE "flag_sets" ADD CONSTRAINT "flag_sets_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flags" ADD CONSTRAINT "flags_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "flags_org_created_idx" ON "flags" USING btree ("org_id","created_at","id");