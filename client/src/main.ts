import { mount } from 'svelte';
import { parseParams, withoutToken } from './app/params.ts';
import { CallSession } from './call/CallSession.ts';
import { faceChoice } from './faces/faceChoice.ts';
import App from './ui/App.svelte';
import './ui/theme.css';

declare global {
  interface Window {
    /** For end-to-end tests and debugging from the console. */
    __guise: { session: CallSession; faceChoice: typeof faceChoice };
  }
}

const launch = parseParams(location.search);
const session = new CallSession({ forceRelay: launch.relay });
// The token is a credential: once read, it leaves the address bar (and so the history).
if (launch.token) history.replaceState(history.state, '', withoutToken(location.href));
window.__guise = { session, faceChoice };
void faceChoice.discoverEngines(launch.engine);
if (launch.identity) void faceChoice.select(launch.identity).catch(() => {});

// Closing the tab closes the socket too; saying goodbye first is just faster for the others.
window.addEventListener('pagehide', () => session.leave());

mount(App, {
  target: document.getElementById('app')!,
  props: { session, launch },
});
