CREATE TYPE "public"."access_list" AS ENUM('allow', 'deny');--> statement-breakpoint
CREATE TYPE "public"."access_subject_type" AS ENUM('ip', 'api_key');--> statement-breakpoint
CREATE TABLE "access_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"list" "access_list" NOT NULL,
	"subject_type" "access_subject_type" NOT NULL,
	"value" text NOT NULL,
	"reason" text NOT NULL,
	"expires_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "access_rules_value_format" CHECK (("access_rules"."subject_type" = 'api_key' and "access_rules"."value" ~ '^key_[0-7][0-9a-hjkmnp-tv-z]{25}$') or ("access_rules"."subject_type" = 'ip' and "access_rules"."value" ~ '^[0-9a-f.:]+(/[0-9]{1,3})?$')),
	CONSTRAINT "access_rules_reason_length" CHECK (char_length("access_rules"."reason") between 1 and 500)
);
--> statement-breakpoint
ALTER TABLE "access_rules" ADD CONSTRAINT "access_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "access_rules_list_subject_value_key" ON "access_rules" USING btree ("list","subject_type","value");--> statement-breakpoint
CREATE INDEX "access_rules_created_idx" ON "access_rules" USING btree ("created_at","id");