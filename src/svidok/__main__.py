from svidok.cli import main

main()
