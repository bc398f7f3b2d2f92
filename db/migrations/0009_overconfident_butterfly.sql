ALTER TABLE "problems" ADD COLUMN "pass_low" double precision;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "pass_high" double precision;