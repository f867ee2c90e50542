"""The pages, one module per area: login, patients, new visits, results."""
