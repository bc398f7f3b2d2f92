/**
 * Cairn's record of what is done. Temporal history carries ids and numbers; every generated text
 * (prompts, completions, code, outputs, grades) lives here, keyed by natural keys the workflow
 * chooses, so every write is safe to repeat.
 */
import {
  bigserial,
  bigint,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const seedStatus = pgEnum('seed_status', ['pending', 'running', 'done', 'failed']);
/**
 * 'failed': a valid problem that could not get its M student samples (the student endpoint refused
 * the request, or kept answering without content); never graded, and not the student's failure.
 */
export const problemStatus = pgEnum('problem_status', ['proposed', 'invalid', 'duplicate', 'valid', 'graded', 'failed']);
export const attemptVerdict = pgEnum('attempt_verdict', ['pass', 'fail']);

export const batches = pgTable('batches', {
  id: text('id').primaryKey(),
  /**
   * The batch's settings as validated once at start (`BatchSettings`; read back only through
   * `parseBatchSettings`). What the workers actually used is in `batch_provenance`.
   */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  /** Set when every seed of the file is in Postgres: no workflow starts for a half-loaded batch. */
  loadedAt: timestamp('loaded_at', { withTimezone: true }),
  seedCount: integer('seed_count'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * What the workers that served a batch actually used: per role, the model, endpoint host and
 * sampling extras (teacher, student) or the sandbox's limits and mode (grader). One row per
 * distinct set of details, recorded by the first worker to use it; never a secret.
 */
export const batchProvenance = pgTable(
  'batch_provenance',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id),
    role: text('role').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    /** sha256 of the details: the row's natural key with batch and role. */
    detailsHash: text('details_hash').notNull(),
    /** The host of the worker that first recorded these details. */
    host: text('host').notNull(),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('batch_provenance_key').on(t.batchId, t.role, t.detailsHash)],
);

export const seeds = pgTable(
  'seeds',
  {
    batchId: text('batch_id')
      .notNull()
      .references(() => batches.id),
    seedId: text('seed_id').notNull(),
    kind: text('kind').notNull().default('snippet'),
    snippet: text('snippet').notNull(),
    source: text('source'),
    status: seedStatus('status').notNull().default('pending'),
    outcome: text('outcome'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.seedId] }), index('seeds_status_idx').on(t.batchId, t.status)],
);

/**
 * The open seeds of a batch workflow run, written when the run continues as new and read back in
 * pages by the next run (its input names the run), so no payload carries O(window) ids. Rows of
 * older runs go when the next snapshot is written and when the batch ends.
 */
export const batchOpenSeeds = pgTable(
  'batch_open_seeds',
  {
    batchId: text('batch_id').notNull(),
    runId: text('run_id').notNull(),
    seedId: text('seed_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.runId, t.seedId] })],
);

/**
 * One row per paid sample: a request of M samples is M rows, each under its own key (the request's
 * key + the sample index), so a retry asks only for the samples it lacks and a 429 on one sample
 * never discards another that was paid for.
 */
export const llmCalls = pgTable(
  'llm_calls',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** sha256 of the request key + sample index: the content address of the sample. */
    requestHash: text('request_hash').notNull(),
    /** sha256 of endpoint host + model + rendered messages + sampling params, shared by a request's samples. */
    requestKey: text('request_key'),
    /** The sample's index within its request (sent as `seed` when asked for alone). */
    sample: integer('sample'),
    role: text('role').notNull(),
    model: text('model').notNull(),
    request: jsonb('request').$type<{ messages: unknown[]; params: Record<string, unknown> }>().notNull(),
    /** The completion text: one choice (older rows may hold several). */
    choices: jsonb('choices').$type<string[]>().notNull(),
    /** Why the server stopped: stop, length (truncated at max_tokens), content_filter...; null when it did not say (older rows). */
    finishReason: text('finish_reason'),
    /** Reasoning the server returned apart from the answer (reasoning_content), or null. */
    reasoning: text('reasoning'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    /** Times this answer was served from the cache instead of paying for the call again. */
    cacheHits: integer('cache_hits').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('llm_calls_request_hash_uq').on(t.requestHash)],
);

export const problems = pgTable(
  'problems',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Natural key `<batch>/<seed>/t<turn>`. */
    key: text('key').notNull(),
    batchId: text('batch_id').notNull(),
    seedId: text('seed_id').notNull(),
    env: text('env').notNull(),
    turn: integer('turn').notNull(),
    parentId: bigint('parent_id', { mode: 'number' }),
    chainId: text('chain_id').notNull(),
    /** Chain level in explicit stepping-stone mode (hard, medium, easy); null in multi-turn mode. */
    level: text('level'),
    /** The progression instruction the teacher was given for this problem. */
    instruction: text('instruction').notNull(),
    status: problemStatus('status').notNull().default('proposed'),
    invalidReason: text('invalid_reason'),
    code: text('code'),
    inputs: jsonb('inputs').$type<string[]>(),
    message: text('message'),
    /** Outputs from executing the teacher's code (canonical Python literals), never its text. */
    outputs: jsonb('outputs').$type<string[]>(),
    refCpuMs: jsonb('ref_cpu_ms').$type<number[]>(),
    /** sha256 of the whitespace/comment-normalized code, and of its AST with names normalized: dedup keys. */
    codeHash: text('code_hash'),
    astHash: text('ast_hash'),
    /** MinHash signature of the normalized code (activities/dedup.py) and its LSH band keys: near-duplicate lookup. */
    minhash: integer('minhash').array(),
    lshBands: text('lsh_bands').array(),
    /** The earlier problem this one duplicates (status 'duplicate'): recorded, not graded. */
    duplicateOf: bigint('duplicate_of', { mode: 'number' }),
    /** Student samples used (M, or fewer with adaptive sampling) and how many passed. */
    attempts: integer('attempts'),
    passed: integer('passed'),
    passRate: doublePrecision('pass_rate'),
    /** The pass rate's Wilson interval at the batch's confidence level (null for problems graded before it was recorded). */
    passLow: doublePrecision('pass_low'),
    passHigh: doublePrecision('pass_high'),
    teacherCallId: bigint('teacher_call_id', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('problems_key_uq').on(t.key),
    index('problems_batch_idx').on(t.batchId, t.seedId),
    index('problems_code_hash_idx').on(t.codeHash),
    index('problems_ast_hash_idx').on(t.astHash),
    index('problems_lsh_bands_idx').using('gin', t.lshBands),
  ],
);

export const attempts = pgTable(
  'attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    problemId: bigint('problem_id', { mode: 'number' })
      .notNull()
      .references(() => problems.id),
    idx: integer('idx').notNull(),
    /** The sample this attempt is: its llm_calls row holds the completion text (stored once). */
    llmCallId: bigint('llm_call_id', { mode: 'number' }).notNull(),
    /** Null since samples are stored once in llm_calls; older rows kept a copy here. */
    completion: text('completion'),
    /** The answer parsed from the completion (code, or a Python literal), or null with parseError set. */
    answer: text('answer'),
    parseError: text('parse_error'),
  },
  (t) => [uniqueIndex('attempts_problem_idx_uq').on(t.problemId, t.idx)],
);

export const grades = pgTable('grades', {
  attemptId: bigint('attempt_id', { mode: 'number' })
    .primaryKey()
    .references(() => attempts.id),
  verdict: attemptVerdict('verdict').notNull(),
  /** Per-input verdicts: ok | wrong | error | timeout | memory_limit | output_limit | crash | protocol_violation | skipped. */
  inputVerdicts: jsonb('input_verdicts').$type<string[]>().notNull(),
  cpuMs: jsonb('cpu_ms').$type<(number | null)[]>().notNull(),
  /** First failure, short (shown to the teacher in the summary). */
  failure: text('failure'),
});

/**
 * Provider batch API (CAIRN_<ROLE>_API=batch): one row per request group a workflow waits for
 * (the samples of one request it lacks). `id` is its natural key (request key + sample indices),
 * so an activity retried after a crash finds its row instead of adding one. `fileKey` is set in
 * the same transaction that creates the file row that carries it.
 */
export const llmBatchRequests = pgTable(
  'llm_batch_requests',
  {
    id: text('id').primaryKey(),
    role: text('role').notNull(),
    requestKey: text('request_key').notNull(),
    /** The sample indices this line asks for (`n` = their count, `seed` = the first). */
    indices: jsonb('indices').$type<number[]>().notNull(),
    /** The line's body (model, messages, params, n, seed): never a key. */
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    /** Bytes of the JSONL line this request becomes. */
    bytes: integer('bytes').notNull(),
    /** queued -> sent (in a file) -> done (samples stored) | failed (the provider refused this line). */
    state: text('state').notNull().default('queued'),
    fileKey: text('file_key'),
    /** The workflows waiting for it (signalled when it is done or failed). */
    waiters: jsonb('waiters').$type<string[]>().notNull().default([]),
    notified: integer('notified').notNull().default(0),
    /** Times it went into a file (a file that failed or expired puts it back in the queue). */
    tries: integer('tries').notNull().default(0),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    doneAt: timestamp('done_at', { withTimezone: true }),
  },
  (t) => [index('llm_batch_requests_state_idx').on(t.role, t.state), index('llm_batch_requests_file_idx').on(t.fileKey)],
);

/**
 * One batch file: created (with its requests) before anything is uploaded, under a natural key
 * (role + hash of its request ids). The provider's file and batch ids are recorded after each
 * step; a crash between a step and its record is recovered by finding the file (by its name) or
 * the batch (by its input file) at the provider, so a file is never submitted twice.
 */
export const llmBatchFiles = pgTable(
  'llm_batch_files',
  {
    key: text('key').primaryKey(),
    role: text('role').notNull(),
    /** open (built) -> uploaded -> submitted -> collected | failed. */
    state: text('state').notNull().default('open'),
    requests: integer('requests').notNull(),
    bytes: integer('bytes').notNull(),
    fileId: text('file_id'),
    batchId: text('batch_id'),
    /** The provider's last status (validating, in_progress, finalizing, completed, failed, expired, cancelled...). */
    status: text('status'),
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('llm_batch_files_state_idx').on(t.role, t.state)],
);

export type Batch = typeof batches.$inferSelect;
export type Seed = typeof seeds.$inferSelect;
export type NewSeed = typeof seeds.$inferInsert;
export type Problem = typeof problems.$inferSelect;
export type Attempt = typeof attempts.$inferSelect;
export type Grade = typeof grades.$inferSelect;
export type LlmCall = typeof llmCalls.$inferSelect;
export type LlmBatchRequest = typeof llmBatchRequests.$inferSelect;
export type LlmBatchFile = typeof llmBatchFiles.$inferSelect;
