ALTER TABLE "problems" ADD COLUMN "minhash" integer[];--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "lsh_bands" text[];--> statement-breakpoint
CREATE INDEX "problems_lsh_bands_idx" ON "problems" USING gin ("lsh_bands");