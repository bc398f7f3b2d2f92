CREATE TABLE "llm_batch_files" (
	"key" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"requests" integer NOT NULL,
	"bytes" integer NOT NULL,
	"file_id" text,
	"batch_id" text,
	"status" text,
	"output_file_id" text,
	"error_file_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "llm_batch_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"request_key" text NOT NULL,
	"indices" jsonb NOT NULL,
	"body" jsonb NOT NULL,
	"bytes" integer NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"file_key" text,
	"waiters" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"notified" integer DEFAULT 0 NOT NULL,
	"tries" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "llm_batch_files_state_idx" ON "llm_batch_files" USING btree ("role","state");--> statement-breakpoint
CREATE INDEX "llm_batch_requests_state_idx" ON "llm_batch_requests" USING btree ("role","state");--> statement-breakpoint
CREATE INDEX "llm_batch_requests_file_idx" ON "llm_batch_requests" USING btree ("file_key");