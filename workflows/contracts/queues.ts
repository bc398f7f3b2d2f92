/** Task queues: workflows alone on `orchestration`; each LLM and the CPU-bound grader on its own. */
export const TASK_QUEUES = {
  orchestration: 'cairn-orchestration',
  teacher: 'cairn-teacher',
  student: 'cairn-student',
  grader: 'cairn-grader',
} as const;
export type QueueName = keyof typeof TASK_QUEUES;
export const ALL_QUEUES: readonly QueueName[] = ['orchestration', 'teacher', 'student', 'grader'];
