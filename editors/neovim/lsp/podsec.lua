-- podsec language server for Neovim >= 0.11 (vim.lsp.config / vim.lsp.enable).
-- Put this directory on 'runtimepath' (or copy this file to ~/.config/nvim/lsp/podsec.lua), then:
--   vim.lsp.enable('podsec')
-- Settings (podsec.level, podsec.version) can be given in `settings`; a .podsec.yaml file and Namespace
-- labels in the workspace take precedence, as on the command line.
---@type vim.lsp.Config
return {
  cmd = { 'podsec', 'lsp' },
  -- 'helm': chart templates, as Neovim (0.10+) and vim-helm detect them.
  filetypes = { 'yaml', 'helm' },
  root_markers = { '.podsec.yaml', '.git' },
  settings = {
    podsec = vim.empty_dict(),
  },
}
