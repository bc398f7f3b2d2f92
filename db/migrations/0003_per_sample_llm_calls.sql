ALTER TYPE "public"."problem_status" ADD VALUE 'failed';--> statement-breakpoint
ALTER TABLE "llm_calls" ADD COLUMN "request_key" text;--> statement-breakpoint
ALTER TABLE "llm_calls" ADD COLUMN "sample" integer;