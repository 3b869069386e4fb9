ALTER TYPE "public"."operation_status" ADD VALUE 'partially_applied' BEFORE 'failed';--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_completed_when_final";--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_completed_when_final" CHECK (("operations"."status" in ('queued', 'running')) = ("operations"."completed_at" is null));