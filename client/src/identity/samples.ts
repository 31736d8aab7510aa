// Built-in identities. Each must be public domain; see public/samples/PROVENANCE.md.
export interface Sample { name: string; label: string; url: string; credit: string }

export const samples: Sample[] = [
  { name: 'astronaut', label: 'Astronaut', url: 'samples/astronaut.jpg', credit: 'Eileen Collins, NASA (public domain)' },
];
