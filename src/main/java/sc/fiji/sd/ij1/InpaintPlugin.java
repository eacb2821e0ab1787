package sc.fiji.sd.ij1;

import ij.plugin.PlugIn;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** ImageJ 1.x Plugins › Stable Diffusion › Inpaint...: repaints the selected area of the active image. (In Fiji the SciJava command with the same label is used.) */
public class InpaintPlugin implements PlugIn {

	@Override
	public void run(String arg) {
		Plugins.runCommand(Mode.INPAINT);
	}
}
