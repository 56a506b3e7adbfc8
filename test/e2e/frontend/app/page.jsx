import Image from 'next/image';

// A local image from public/: the optimizer fetches /mountains.jpg from this app.
export default function Home() {
  return (
    <main>
      <h1>Mountains</h1>
      <Image src="/mountains.jpg" alt="Mountains at sunset" width={800} height={534} priority />
    </main>
  );
}
