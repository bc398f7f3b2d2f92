ALTER TABLE "llm_calls" ADD COLUMN "finish_reason" text;--> statement-breakpoint
ALTER TABLE "llm_calls" ADD COLUMN "reasoning" text;