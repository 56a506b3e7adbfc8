import Image from 'next/image';
import { cdnOrigin } from '../origins.js';

// A remote image on the in-cluster CDN Service, allowed by images.remotePatterns.
export default async function Remote() {
  const src = `${await cdnOrigin()}/flowers.jpg`;
  return (
    <main>
      <h1>Flowers from the CDN</h1>
      <Image src={src} alt="Flowers" width={600} height={600} />
    </main>
  );
}
