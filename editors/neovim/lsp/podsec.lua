-- podsec language server for Neovim >= 0.11 (vim.lsp.config / vim.lsp.enable).
-- Put this directory on 'runtimepath' (or copy this file to ~/.config/nvim/lsp/podsec.lua), then:
--   vim.lsp.enable('podsec')
-- Settings (podsec.level, podsec.version, podsec.helm: the Helm that renders charts) can be given in
-- `settings`; a .podsec.yaml file and Namespace labels in the workspace take precedence, as on the command
-- line. See README.md here for lenses, a preferred-fix mapping and Neovim 0.12.
---@type vim.lsp.Config
return {
  cmd = { 'podsec', 'lsp' },
  -- 'helm': chart templates, as Neovim (0.10+) and vim-helm detect them.
  filetypes = { 'yaml', 'helm' },
  -- The repository is the workspace: a Namespace or admission configuration anywhere in it sets the
  -- policy of a team's folder, as `podsec check .` at its root finds it. A .podsec.yaml roots the
  -- workspace only outside a repository (markers are tried in order, each searched upward).
  root_markers = { '.git', '.podsec.yaml' },
  -- Changes made outside the editor (`git checkout`, `rm .podsec.yaml`) reach the server: Neovim
  -- 0.11/0.12 do not offer file watching on Linux by default, and podsec registers its own watchers.
  capabilities = {
    workspace = { didChangeWatchedFiles = { dynamicRegistration = true } },
  },
  settings = {
    podsec = vim.empty_dict(),
  },
}
