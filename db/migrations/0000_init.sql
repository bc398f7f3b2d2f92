CREATE TYPE "public"."attempt_verdict" AS ENUM('pass', 'fail');--> statement-breakpoint
CREATE TYPE "public"."problem_status" AS ENUM('proposed', 'invalid', 'duplicate', 'valid', 'graded');--> statement-breakpoint
CREATE TYPE "public"."seed_status" AS ENUM('pending', 'running', 'done', 'failed');--> statement-breakpoint
CREATE TABLE "attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"problem_id" bigint NOT NULL,
	"idx" integer NOT NULL,
	"llm_call_id" bigint NOT NULL,
	"completion" text NOT NULL,
	"answer" text,
	"parse_error" text
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"id" text PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"loaded_at" timestamp with time zone,
	"seed_count" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grades" (
	"attempt_id" bigint PRIMARY KEY NOT NULL,
	"verdict" "attempt_verdict" NOT NULL,
	"input_verdicts" jsonb NOT NULL,
	"cpu_ms" jsonb NOT NULL,
	"failure" text
);
--> statement-breakpoint
CREATE TABLE "llm_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_hash" text NOT NULL,
	"role" text NOT NULL,
	"model" text NOT NULL,
	"request" jsonb NOT NULL,
	"choices" jsonb NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "problems" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"batch_id" text NOT NULL,
	"seed_id" text NOT NULL,
	"env" text NOT NULL,
	"turn" integer NOT NULL,
	"parent_id" bigint,
	"chain_id" text NOT NULL,
	"level" text,
	"instruction" text NOT NULL,
	"status" "problem_status" DEFAULT 'proposed' NOT NULL,
	"invalid_reason" text,
	"code" text,
	"inputs" jsonb,
	"message" text,
	"outputs" jsonb,
	"ref_cpu_ms" jsonb,
	"code_hash" text,
	"ast_hash" text,
	"duplicate_of" bigint,
	"attempts" integer,
	"passed" integer,
	"pass_rate" double precision,
	"teacher_call_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seeds" (
	"batch_id" text NOT NULL,
	"seed_id" text NOT NULL,
	"kind" text DEFAULT 'snippet' NOT NULL,
	"snippet" text NOT NULL,
	"source" text,
	"status" "seed_status" DEFAULT 'pending' NOT NULL,
	"outcome" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "seeds_batch_id_seed_id_pk" PRIMARY KEY("batch_id","seed_id")
);
--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_problem_id_problems_id_fk" FOREIGN KEY ("problem_id") REFERENCES "public"."problems"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grades" ADD CONSTRAINT "grades_attempt_id_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seeds" ADD CONSTRAINT "seeds_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_problem_idx_uq" ON "attempts" USING btree ("problem_id","idx");--> statement-breakpoint
CREATE UNIQUE INDEX "llm_calls_request_hash_uq" ON "llm_calls" USING btree ("request_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "problems_key_uq" ON "problems" USING btree ("key");--> statement-breakpoint
CREATE INDEX "problems_batch_idx" ON "problems" USING btree ("batch_id","seed_id");--> statement-breakpoint
CREATE INDEX "problems_code_hash_idx" ON "problems" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "problems_ast_hash_idx" ON "problems" USING btree ("ast_hash");--> statement-breakpoint
CREATE INDEX "seeds_status_idx" ON "seeds" USING btree ("batch_id","status");