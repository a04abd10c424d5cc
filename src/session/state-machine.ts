/**
 * A small explicit state machine: the legal transitions are data, every
 * change is checked against them and recorded, so a run can be reported (and
 * tested) as the exact path it took.
 */
export interface StateMachineDefinition<S extends string> {
  readonly initial: S;
  /** For every state, the states it may move to. */
  readonly transitions: Readonly<Record<S, readonly S[]>>;
  /** States in which a run may end. */
  readonly terminal: readonly S[];
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`illegal state transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export class StateMachine<S extends string> {
  private current: S;
  private readonly path: S[];

  constructor(
    private readonly definition: StateMachineDefinition<S>,
    private readonly onChange?: (from: S, to: S) => void,
  ) {
    this.current = definition.initial;
    this.path = [definition.initial];
  }

  get state(): S {
    return this.current;
  }

  /** Every state visited, in order, starting with the initial one. */
  get history(): readonly S[] {
    return this.path;
  }

  get isTerminal(): boolean {
    return this.definition.terminal.includes(this.current);
  }

  canMoveTo(next: S): boolean {
    return this.definition.transitions[this.current].includes(next);
  }

  moveTo(next: S): void {
    if (!this.canMoveTo(next)) throw new IllegalTransitionError(this.current, next);
    const from = this.current;
    this.current = next;
    this.path.push(next);
    this.onChange?.(from, next);
  }
}
