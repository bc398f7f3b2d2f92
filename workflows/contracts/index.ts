/**
 * The contracts every side imports: ids, task queues, failure types, search attributes, messages,
 * workflow inputs and outputs, and the typed batch settings. No Node or SDK-runtime imports beyond
 * @temporalio/common and @temporalio/workflow's message definitions, so workflow code may import it
 * by value. The method's numbers live next door in `workflows/method`.
 */
export * from './ids';
export * from './queues';
export * from './failure-types';
export * from './search-attributes';
export * from './batch-settings';
export * from './workflow-io';
export * from './messages';
export { PAPER_CHAIN_BINS, type ChainBins, type Level } from '../method/numbers';
