/**
 * Host-side grading: an input passes only when it ran ('ok') and its canonical output equals the
 * expected canonical string exactly; `pass` needs at least one input and all of them ok. Expected
 * values never enter the sandbox, so nothing the code does in there can forge a pass. The rule is
 * written once, in Python (activities/environments/answers.py compare_outcomes), because the
 * exported trainer reward (cairn_reward.py) runs the same file.
 */
export { compareMany, compareOutcomes, type Comparison } from '../environments/answers-py';
