CREATE TYPE "public"."document_status" AS ENUM('stored', 'extracting', 'chunking', 'embedding', 'enriching', 'ready', 'failed', 'needs_ocr');--> statement-breakpoint
CREATE TYPE "public"."document_visibility" AS ENUM('private', 'organization');--> statement-breakpoint
CREATE TABLE "documents" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"title" text NOT NULL,
	"locale" text,
	"category_id" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"visibility" "document_visibility" DEFAULT 'organization' NOT NULL,
	"uploaded_by" text NOT NULL,
	"file_name" text NOT NULL,
	"content_type" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"status" "document_status" DEFAULT 'stored' NOT NULL,
	"failure_reason" text,
	"r2_key" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "documents_org_id_key" UNIQUE("org_id","id"),
	CONSTRAINT "documents_sha256_hex" CHECK ("documents"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "documents_size_positive" CHECK ("documents"."size_bytes" > 0),
	CONSTRAINT "documents_version_positive" CHECK ("documents"."version" >= 1),
	CONSTRAINT "documents_failure_reason_when_failed" CHECK (("documents"."status" = 'failed') = ("documents"."failure_reason" is not null)),
	CONSTRAINT "documents_uploaded_by_actor" CHECK ("documents"."uploaded_by" is null or "documents"."uploaded_by" ~ '^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|system)$')
);
--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_category_fk" FOREIGN KEY ("org_id","category_id") REFERENCES "public"."categories"("org_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "documents_org_created_idx" ON "documents" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "documents_org_status_created_idx" ON "documents" USING btree ("org_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "documents_tags_idx" ON "documents" USING gin ("tags");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_org_sha256_key" ON "documents" USING btree ("org_id","sha256");