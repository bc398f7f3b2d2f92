/**
 * Activity factories, one per task queue. Workflows type their proxies with ReturnType of these;
 * workers register the same objects, so nothing proxied is left unregistered.
 */
export { createTeacherActivities } from './teacher';
export { createStudentActivities } from './student';
export { createGraderActivities } from './grader';
export { createBookkeepingActivities } from './bookkeeping';
