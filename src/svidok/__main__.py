from svidok.cli import main

# Guarded: worker processes import the main module, and must not run the command again.
if __name__ == "__main__":
    main()
