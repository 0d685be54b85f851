export * from './paths';
export * from './ports';
export * from './process';
export * from "./progress";
