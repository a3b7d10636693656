"""The console's pages, one module per family; every view that leads to a change is `manager_required`."""
