/** The 18 per-identity tensors of the IDN, named as the exported conditioner and generator name them. */
export const IDENTITY_TENSORS = [
  ...[0, 1, 2, 3, 4].flatMap((i) => [`enc_dw_${i}`, `enc_pw_${i}`]),
  ...[0, 1, 2, 3].flatMap((i) => [`dec_dw_${i}`, `dec_pw_${i}`]),
];
