"""The API's shape: strawberry types, inputs, enums and error results, written by hand."""
