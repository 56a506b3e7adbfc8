// One trivial page: the bench only uses /_next/image, but `next build` wants a page.
export default function Home() {
  return <p>next-image-operator bench baseline</p>;
}
