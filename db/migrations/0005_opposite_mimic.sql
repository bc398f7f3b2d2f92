CREATE TABLE "batch_open_seeds" (
	"batch_id" text NOT NULL,
	"run_id" text NOT NULL,
	"seed_id" text NOT NULL,
	CONSTRAINT "batch_open_seeds_batch_id_run_id_seed_id_pk" PRIMARY KEY("batch_id","run_id","seed_id")
);
