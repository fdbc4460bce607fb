from acrx.cli.app import main

main()
