// The part of mocha's API the suite uses, declared here so that type checking the project does not
// depend on @types/mocha being installed (the suite's files are checked with everything else).
declare module 'mocha' {
  interface Runnable { fullTitle(): string; duration?: number }
  interface Runner { on(event: 'pass' | 'pending', fn: (test: Runnable) => void): Runner; on(event: 'fail', fn: (test: Runnable, err: Error) => void): Runner }
  class Mocha {
    constructor(options?: { ui?: 'tdd' | 'bdd'; timeout?: number; color?: boolean; reporter?: string });
    addFile(file: string): this;
    run(done?: (failures: number) => void): Runner;
  }
  export = Mocha;
}

// mocha's `tdd` interface, defined as globals while it loads the suite's files.
type MochaFn = (this: unknown) => void | Promise<void>;
declare function suite(title: string, fn: () => void): void;
declare function test(title: string, fn: MochaFn): void;
declare function suiteSetup(fn: MochaFn): void;
declare function suiteTeardown(fn: MochaFn): void;
declare function setup(fn: MochaFn): void;
declare function teardown(fn: MochaFn): void;
