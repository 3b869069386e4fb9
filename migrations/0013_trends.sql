CREATE TYPE "public"."topic_change_kind" AS ENUM('created', 'grew', 'merged', 'absorbed', 'split', 'split_from', 'retired');--> statement-breakpoint
CREATE TYPE "public"."topic_status" AS ENUM('active', 'merged', 'retired');--> statement-breakpoint
CREATE TYPE "public"."trend_lifecycle" AS ENUM('emerging', 'rising', 'peaking', 'declining');--> statement-breakpoint
CREATE TABLE "topic_changes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "topic_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"org_id" text NOT NULL,
	"topic_id" text NOT NULL,
	"kind" "topic_change_kind" NOT NULL,
	"related" text,
	"size" integer NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topic_members" (
	"org_id" text NOT NULL,
	"content_id" text NOT NULL,
	"topic_id" text NOT NULL,
	"similarity" real NOT NULL,
	"vector" real[] NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "topic_members_org_id_content_id_pk" PRIMARY KEY("org_id","content_id")
);
--> statement-breakpoint
CREATE TABLE "topic_series" (
	"org_id" text NOT NULL,
	"topic_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"new_items" integer DEFAULT 0 NOT NULL,
	"engagement" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "topic_series_org_id_topic_id_hour_pk" PRIMARY KEY("org_id","topic_id","hour")
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"label" text DEFAULT '' NOT NULL,
	"keywords" jsonb DEFAULT '{"ar":[],"en":[]}'::jsonb NOT NULL,
	"centroid" real[] NOT NULL,
	"size" integer DEFAULT 0 NOT NULL,
	"status" "topic_status" DEFAULT 'active' NOT NULL,
	"merged_into" text,
	"category_id" text,
	"locales" text[] DEFAULT '{}'::text[] NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"score" double precision DEFAULT 0 NOT NULL,
	"lifecycle" "trend_lifecycle",
	"scored_at" timestamp with time zone,
	"last_significant_at" timestamp with time zone,
	"detected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "topics_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "topics_merged_has_target" CHECK (("topics"."status" = 'merged') = ("topics"."merged_into" is not null)),
	CONSTRAINT "topics_keywords_object" CHECK (jsonb_typeof("topics"."keywords") = 'object')
);
--> statement-breakpoint
ALTER TABLE "topic_changes" ADD CONSTRAINT "topic_changes_topic_fk" FOREIGN KEY ("org_id","topic_id") REFERENCES "public"."topics"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_members" ADD CONSTRAINT "topic_members_topic_fk" FOREIGN KEY ("org_id","topic_id") REFERENCES "public"."topics"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_members" ADD CONSTRAINT "topic_members_content_fk" FOREIGN KEY ("org_id","content_id") REFERENCES "public"."content"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_series" ADD CONSTRAINT "topic_series_topic_fk" FOREIGN KEY ("org_id","topic_id") REFERENCES "public"."topics"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topics" ADD CONSTRAINT "topics_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topics" ADD CONSTRAINT "topics_merged_into_fk" FOREIGN KEY ("org_id","merged_into") REFERENCES "public"."topics"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "topic_changes_topic_idx" ON "topic_changes" USING btree ("org_id","topic_id","id");--> statement-breakpoint
CREATE INDEX "topic_members_topic_idx" ON "topic_members" USING btree ("org_id","topic_id","similarity");--> statement-breakpoint
CREATE INDEX "topics_org_status_idx" ON "topics" USING btree ("org_id","status");--> statement-breakpoint
CREATE INDEX "topics_org_trending_idx" ON "topics" USING btree ("org_id","score","id") WHERE "topics"."lifecycle" is not null;