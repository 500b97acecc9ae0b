import { AuthLayout, PageHeading } from '../components/page-layout.tsx';
import { Link } from '../routing/router.tsx';

export function NotFoundPage() {
  return (
    <AuthLayout>
      <PageHeading title="Not found">This page does not exist</PageHeading>
      <p>
        <Link to="/">Go to your organisations</Link>
      </p>
    </AuthLayout>
  );
}
