// What the app exposes on window for tests (see client/src/main.ts).
interface Window {
  __guise: {
    session: import('../../client/src/call/CallSession.ts').CallSession;
    faceSwap: import('../../client/src/swap/faceSwap.ts').FaceSwap;
  };
}
