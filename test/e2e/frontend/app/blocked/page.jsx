import Image from 'next/image';
import { blockedOrigin } from '../origins.js';

// A remote image on a host images.remotePatterns does not allow: the optimizer answers 400.
export default async function Blocked() {
  const src = `${await blockedOrigin()}/flowers.jpg`;
  return (
    <main>
      <h1>An image from a host that is not allowed</h1>
      <Image src={src} alt="Not allowed" width={600} height={600} />
    </main>
  );
}
