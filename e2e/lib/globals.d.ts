// What the app exposes on window for tests (see client/src/main.ts).
interface Window {
  __guise: {
    session: import('@guise/client/call/CallSession').CallSession;
    faceSwap: import('@guise/client/swap/faceSwap').FaceSwap;
  };
}
