/** Workflow bundle entry: every workflow type the orchestration worker runs. */
export { seedWorkflow } from './seed';
export { batchWorkflow } from './batch';
