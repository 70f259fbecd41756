import os
import unittest

import support  # noqa: F401  (puts the package on sys.path)


class TestSchemaCopies(unittest.TestCase):
    """The package ships copies of the repository's queue schemas (a pip
    install cannot reach schemas/); they must stay equal byte for byte.
    After changing schemas/, copy the file into src/fbdi_notify/schemas/."""

    def test_copies_equal_the_repository(self):
        for name in ("notification-message.schema.json", "workflow-message.schema.json"):
            with self.subTest(name=name):
                with open(os.path.join(support.REPO, "schemas", name), "rb") as f:
                    want = f.read()
                with open(os.path.join(support.HERE, "..", "src", "fbdi_notify", "schemas", name), "rb") as f:
                    got = f.read()
                self.assertEqual(got, want, f"src/fbdi_notify/schemas/{name} differs from schemas/{name}: copy it")


if __name__ == "__main__":
    unittest.main()
