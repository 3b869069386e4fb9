CREATE TABLE "ai_usage" (
	"org_id" text NOT NULL,
	"day" date NOT NULL,
	"kind" text NOT NULL,
	"model" text NOT NULL,
	"engine" text NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"cache_hits" integer DEFAULT 0 NOT NULL,
	"semantic_hits" integer DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(14, 6) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_usage_pkey" PRIMARY KEY("org_id","day","kind","model","engine"),
	CONSTRAINT "ai_usage_kind" CHECK ("ai_usage"."kind" in ('enrich', 'ask')),
	CONSTRAINT "ai_usage_engine" CHECK ("ai_usage"."engine" in ('model', 'extractive')),
	CONSTRAINT "ai_usage_counts" CHECK ("ai_usage"."calls" >= 0 and "ai_usage"."cache_hits" >= 0 and "ai_usage"."semantic_hits" >= 0 and "ai_usage"."cache_hits" + "ai_usage"."semantic_hits" <= "ai_usage"."calls"),
	CONSTRAINT "ai_usage_cost" CHECK ("ai_usage"."cost_usd" >= 0)
);
--> statement-breakpoint
CREATE TABLE "content_enrichments" (
	"org_id" text NOT NULL,
	"content_id" text NOT NULL,
	"version" integer NOT NULL,
	"text_sha256" text NOT NULL,
	"enrichment" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "content_enrichments_pkey" PRIMARY KEY("org_id","content_id")
);
--> statement-breakpoint
ALTER TABLE "ai_usage" ADD CONSTRAINT "ai_usage_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "content_enrichments" ADD CONSTRAINT "content_enrichments_content_fk" FOREIGN KEY ("org_id","content_id") REFERENCES "public"."content"("org_id","id") ON DELETE cascade ON UPDATE no action;