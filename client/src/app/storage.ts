// Remembers the display name between visits. localStorage can throw (privacy
// modes, storage disabled); a forgotten name is no reason to fail.

const NAME_KEY = 'guise.displayName';

export function loadDisplayName(storage: Pick<Storage, 'getItem'> | undefined = globalStorage()): string | null {
  try {
    return storage?.getItem(NAME_KEY) || null;
  } catch {
    return null;
  }
}

export function saveDisplayName(name: string, storage: Pick<Storage, 'setItem'> | undefined = globalStorage()): void {
  try {
    storage?.setItem(NAME_KEY, name);
  } catch {
    // not persisted; fine
  }
}

function globalStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

// The disclosure mark in swapped frames is on unless the person turned it off
// themselves; that choice is remembered, so it is made once, on purpose.
const MARK_KEY = 'guise.disclosureMark';

export function loadDisclosureMark(storage: Pick<Storage, 'getItem'> | undefined = globalStorage()): boolean {
  try {
    return storage?.getItem(MARK_KEY) !== 'off';
  } catch {
    return true;
  }
}

export function saveDisclosureMark(on: boolean, storage: Pick<Storage, 'setItem' | 'removeItem'> | undefined = globalStorage()): void {
  try {
    if (on) storage?.removeItem(MARK_KEY);
    else storage?.setItem(MARK_KEY, 'off');
  } catch {
    // not persisted: the next visit draws the mark again
  }
}
