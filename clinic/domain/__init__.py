"""Pure clinical and business rules: no Flask, no database."""
