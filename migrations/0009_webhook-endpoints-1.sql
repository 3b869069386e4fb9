DROP INDEX "webhook_subscriptions_org_active_idx";--> statement-breakpoint
CREATE INDEX "webhook_subscriptions_org_active_idx" ON "webhook_subscriptions" USING btree ("org_id") WHERE "webhook_subscriptions"."disabled_at" is null;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP COLUMN "payload";--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DROP COLUMN "active";