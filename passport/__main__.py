from passport.cli import main

main()
