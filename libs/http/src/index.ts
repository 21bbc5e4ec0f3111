export { installProblemHandlers, type Problem, sendProblem } from './problem.ts';
