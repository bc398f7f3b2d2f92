CREATE TABLE "batch_provenance" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"batch_id" text NOT NULL,
	"role" text NOT NULL,
	"details" jsonb NOT NULL,
	"details_hash" text NOT NULL,
	"host" text NOT NULL,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "batch_provenance" ADD CONSTRAINT "batch_provenance_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "batch_provenance_key" ON "batch_provenance" USING btree ("batch_id","role","details_hash");