import { performance } from 'node:perf_hooks';

type Task = () => void;

/**
 * One timer for thousands of calls: a binary heap of (due time, task) drained by a 1 ms interval.
 * Cheaper and steadier than one setTimeout per frame per call, and tasks that fall due together
 * run in due order. Times are performance.now() milliseconds.
 */
export class Scheduler {
  private readonly due: number[] = [];
  private readonly order: number[] = [];
  private readonly tasks: Task[] = [];
  private sequence = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.runDue(), 1);
  }

  at(dueMs: number, task: Task): void {
    let i = this.due.length;
    this.due.push(dueMs);
    this.order.push(this.sequence++);
    this.tasks.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private runDue(): void {
    for (;;) {
      if (this.due.length === 0 || this.due[0]! > performance.now()) return;
      const task = this.pop();
      task();
    }
  }

  private pop(): Task {
    const task = this.tasks[0]!;
    const last = this.due.length - 1;
    this.swap(0, last);
    this.due.pop();
    this.order.pop();
    this.tasks.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.due.length && this.before(left, smallest)) smallest = left;
      if (right < this.due.length && this.before(right, smallest)) smallest = right;
      if (smallest === i) return task;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private before(a: number, b: number): boolean {
    const da = this.due[a]!;
    const db = this.due[b]!;
    return da < db || (da === db && this.order[a]! < this.order[b]!);
  }

  private swap(a: number, b: number): void {
    const d = this.due[a]!;
    this.due[a] = this.due[b]!;
    this.due[b] = d;
    const o = this.order[a]!;
    this.order[a] = this.order[b]!;
    this.order[b] = o;
    const t = this.tasks[a]!;
    this.tasks[a] = this.tasks[b]!;
    this.tasks[b] = t;
  }
}
