# Every dependency comes from Debian 12 packages (scripts/build.sh installs them).
find_package(Threads REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C CXX)
find_package(pugixml REQUIRED)
if(S2M_TORCH)
  find_package(Torch REQUIRED)
endif()

add_library(s2m_deps INTERFACE)
target_link_libraries(s2m_deps INTERFACE
  Eigen3::Eigen spdlog::spdlog nlohmann_json::nlohmann_json pugixml::pugixml
  ${TORCH_LIBRARIES} ${HDF5_CXX_LIBRARIES} ${HDF5_LIBRARIES} Threads::Threads)
target_include_directories(s2m_deps SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS} ${TORCH_INCLUDE_DIRS})
target_link_libraries(s2m_deps INTERFACE CLI11::CLI11)
# PyPI's LibTorch (scripts/build.sh --torch pip) carries fmt headers newer than the fmt Debian's
# spdlog was built with: Debian's come first for every source.
if(Torch_VERSION VERSION_GREATER_EQUAL 2 AND EXISTS /usr/include/fmt)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/debian-fmt)
  file(CREATE_LINK /usr/include/fmt ${CMAKE_BINARY_DIR}/debian-fmt/fmt SYMBOLIC)
  target_include_directories(s2m_deps BEFORE INTERFACE ${CMAKE_BINARY_DIR}/debian-fmt)
  # Its libtorch.so also exports its own std::filesystem functions (remove_all crashed inside them):
  # libstdc++ goes first among the needed libraries so that the system's definitions win.
  add_link_options("LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
endif()
# c10d's Gloo process group (data-parallel training) includes Gloo's headers (Debian: libgloo-dev).
find_package(Gloo CONFIG QUIET)
if(TARGET gloo)
  target_link_libraries(s2m_deps INTERFACE gloo)
endif()

# Sources under src/{model,train,infer} include torch; give them one shared PCH.
function(s2m_torch_pch target sources)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  foreach(src ${sources})
    if(NOT src MATCHES "/src/(model|train|infer|bench)/")
      set_source_files_properties(${src} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()
