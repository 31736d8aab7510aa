// What the app exposes on window for tests (see client/src/main.ts).
interface Window {
  __guise: {
    session: import('@guise/client/call/CallSession').CallSession;
    faceChoice: import('@guise/client/faces/faceChoice').FaceChoice;
  };
}
