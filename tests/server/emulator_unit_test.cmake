# add_emulator_unit_test(NAME LIBS...): a cmocka unit test of the emulators'
# pure-C parts (device models, backends, argument helpers), built from
# NAME.c in the including directory and registered with ctest.
include_guard(GLOBAL)

function(add_emulator_unit_test name)
    if(NOT TARGET PkgConfig::CMOCKA)
        find_package(PkgConfig REQUIRED)
        pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
    endif()
    add_executable(${name} ${name}.c)
    target_link_libraries(${name} PRIVATE ${ARGN} PkgConfig::CMOCKA)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "unit;server" TIMEOUT 60)
endfunction()
