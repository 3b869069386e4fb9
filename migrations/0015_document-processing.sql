CREATE TABLE "document_chunks" (
	"org_id" text NOT NULL,
	"document_id" text NOT NULL,
	"chunk_index" integer NOT NULL,
	"text" text NOT NULL,
	"language" text NOT NULL,
	"page_start" integer,
	"page_end" integer,
	"heading_path" text[] DEFAULT '{}'::text[] NOT NULL,
	"char_start" integer NOT NULL,
	"char_end" integer NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector((case language when 'ar' then 'arabic'::regconfig when 'en' then 'english'::regconfig else 'simple'::regconfig end), text)) STORED NOT NULL,
	CONSTRAINT "document_chunks_org_id_document_id_chunk_index_pk" PRIMARY KEY("org_id","document_id","chunk_index"),
	CONSTRAINT "document_chunks_index_nonnegative" CHECK ("document_chunks"."chunk_index" >= 0),
	CONSTRAINT "document_chunks_span" CHECK (0 <= "document_chunks"."char_start" and "document_chunks"."char_start" <= "document_chunks"."char_end"),
	CONSTRAINT "document_chunks_pages" CHECK ("document_chunks"."page_start" is null or ("document_chunks"."page_start" >= 1 and "document_chunks"."page_end" >= "document_chunks"."page_start"))
);
--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "operation_id" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "language" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "page_count" integer;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "chunk_count" integer;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "text_key" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "text_sha256" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "enrichment" jsonb;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "processed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "document_chunks" ADD CONSTRAINT "document_chunks_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "document_chunks" ADD CONSTRAINT "document_chunks_document_fk" FOREIGN KEY ("org_id","document_id") REFERENCES "public"."documents"("org_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "document_chunks_search_idx" ON "document_chunks" USING gin ("search");