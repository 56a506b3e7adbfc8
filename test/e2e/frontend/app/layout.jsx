export const metadata = {
  title: 'next-image-operator sample frontend',
  description: 'A Next.js 16 app whose pages use next/image, served through the gateway.',
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', margin: '2rem' }}>
        <nav>
          <a href="/">local image</a> · <a href="/remote">remote image (CDN)</a> ·{' '}
          <a href="/blocked">blocked host</a>
        </nav>
        {children}
      </body>
    </html>
  );
}
