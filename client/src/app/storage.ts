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
